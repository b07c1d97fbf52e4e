"""Jobs: the RQ queue, the job unit of work, and the worker's periodic jobs.

* :mod:`app.jobs.runner`: the queue, the retry policy, :class:`JobSpec`, and the unit of work
  every job runs in (:func:`run_in_tenant`, :func:`run_on_platform`). It depends only on
  infrastructure and the tenant context, so every domain's ``tasks`` module may use it.
* :mod:`app.jobs.periodic`: the periodic jobs (a table of dotted paths) and their scheduler
  thread, under a kept Redis lock.
"""
