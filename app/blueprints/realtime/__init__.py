"""Socket.IO surface: the real-time counterpart of the HTTP blueprints.

* :mod:`.server` binds the Socket.IO server to the app and registers the handlers;
* :mod:`.origin` the Origin policy of the WebSocket handshake;
* :mod:`.sockets` this process's registry of open sockets (under one lock);
* :mod:`.scope` the wrapper every client event goes through (actor check, tenant scope, one
  unit of work per event, effects after the commit);
* :mod:`.connect` connect / disconnect; :mod:`.chat_events` the chat's client events;
* :mod:`.watchdog` closes sockets whose login session or booking ended;
* :mod:`.broadcast` what the chat tells connected clients after a change has committed.

The low-level emit and presence that any process may use stay in :mod:`app.realtime`.
"""
