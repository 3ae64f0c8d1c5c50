"""The built-in producer jobs (one module each, each exposing ``JOB`` and a ``make_job``)."""
