"""Request/reply contracts: commands that need an answer now (DESIGN.md rule 3).

Subjects start with `rpc.`, outside every stream's subjects, so JetStream never answers them.
"""
