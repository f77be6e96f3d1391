"""A simulated store: the demo's and the tests' platform, signed like a real one."""

from connectors.sandbox.connector import SandboxConnector

__all__ = ["SandboxConnector"]
