"""Tastemaker's domain logic: plain, typed Python with no Flask or platform imports."""
