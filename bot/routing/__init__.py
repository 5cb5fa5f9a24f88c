"""Issues become cases: routing rules, references, status history, notifications."""
