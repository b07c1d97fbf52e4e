"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi …``.

Once the app is built, its startup garbage is collected and every object left (modules, the
app, its routes, templates and SQL metadata: about 250,000 objects, all alive as long as the
process) is moved out of the cyclic garbage collector's reach with :func:`gc.freeze`. Without
that, each full collection while serving walked all of them and stopped the process's threads
for 150–220 ms (measured in the web processes of ``bench/chat.py``: a reply caught in one waits
that long); with it, a full collection walks only what serving created and took 30–55 ms.
"""

import gc

from app import create_app

app = create_app()
gc.collect()
gc.freeze()
