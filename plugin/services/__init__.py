"""Application services: domain operations over the database, with no Flask or platform imports.

Each function takes a Session (and ids or typed values), so web handlers, jobs and the demo share
them. Flask-bound helpers live in plugin.web; platform code lives in connectors/.
"""
