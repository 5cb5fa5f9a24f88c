-- The tracker store's database beside the application's (POSTGRES_DB creates `send`).
CREATE DATABASE send_tracker;
