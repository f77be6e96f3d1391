"""`tastemaker demo`: the embedded default with a seeded store, served on localhost.

Each demo part is a module with `start(app, base_url) -> list[str]`: it starts what it needs
(simulated platform servers, seed data, simulated traffic through the real HTTP endpoints) and
returns lines to print (URLs to open). Parts run in DEMO_PARTS order once the app is serving.
"""
