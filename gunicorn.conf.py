"""gunicorn settings every way of serving Plaza shares (the Procfile, ``make run``, the tests'
servers, the benches): gunicorn reads ``gunicorn.conf.py`` from its working directory, the
repository root. Command-line flags (worker class, threads, bind) add to these."""

#: Seconds an idle keep-alive connection stays open. gunicorn's default (2 s) closes connections
#: a client is about to reuse after a short pause: the client's next request then meets a reset
#: it does not retry (measured: 3 of 5,341 requests in ``bench/multinode.py``, whose users pause
#: 0.5-2 s). Behind a load balancer this must also outlast the balancer's idle timeout (60 s on
#: AWS ALB, 75 s is nginx's default keep-alive), or the balancer answers 502 on the same race.
keepalive = 75
