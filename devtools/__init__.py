"""Tools for the demo and the tests, not part of the product (not in the Docker image).

``smtp_sink``: a local SMTP server writing each message as an ``.eml`` file
(``python -m devtools.smtp_sink``). ``local_answer``: answers a human-in-the-loop task while
``dag.test()`` waits, the way the REST API does.
"""
