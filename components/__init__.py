"""Custom Rasa graph components (adapters over bot/)."""
