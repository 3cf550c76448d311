"""Evidence review: the quality team's judgement of each evidence item (accepted, needs work, not relevant).

Plain Python, no Airflow: ``reviewers`` says who may judge (the config's quality-team members with an
Airflow user), ``store`` records each change append-only with optimistic concurrency, ``csrf`` makes
and checks the form token the plugin's POSTs carry. docs/review.md.
"""
