"""Real-time layer: the Socket.IO server (events, rooms, auth, presence) and :mod:`emit`,
which any process (web or worker) uses to reach connected clients through Redis."""
