"""The scenarios behind the book's generated diagrams, one module per chapter family.

Chapters name their functions through ``patterns.diagrams.gallery``, which re-exports them.
"""
