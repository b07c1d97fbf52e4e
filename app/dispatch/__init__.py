"""On-demand dispatch (issue 13, seed 004): a customer asks for a service now at a location, and
dispatch offers it to one online operator at a time — the closest, least loaded and qualified —
with an acceptance window before it cascades to the next.
"""
