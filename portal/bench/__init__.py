"""The benchmark behind ``make bench`` (``manage.py benchmark``): speed at scale, beside floors.

- ``harness``: the scale's database, gunicorn on 127.0.0.1, HTTP clients, timing with 1 and N users;
- ``floors``: the floor views, mounted only on the benchmark's own server (``BENCHMARK_FLOORS``);
- ``sql_floor``: a computation's SQL captured and replayed alone (the database floor);
- ``run``: what is measured, against which floor and target;
- ``markdown``: the machine, the versions, and the scale's section of ``BENCHMARKS.md``.
"""
