"""The staff side: accounts, roles, the audit log and the views the staff console shows."""
