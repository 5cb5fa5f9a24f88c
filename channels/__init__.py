"""Custom Rasa channel connectors: verify, de-duplicate, store and render for each channel."""
