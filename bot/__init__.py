"""The SEND Local Offer assistant's domain: directory, routing, feedback, safety.

Nothing in this package imports Rasa or knows about channels; ``actions/`` and
``channels/`` are thin adapters over it.
"""
