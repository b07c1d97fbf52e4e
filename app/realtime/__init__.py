"""Low-level real-time plumbing any process may use: :mod:`.emit` (reach connected clients
through Redis, from web or worker) and :mod:`.presence` (who has a socket in a conversation).

The Socket.IO server and its event handlers are a surface like HTTP: they live in
:mod:`app.blueprints.realtime`.
"""
