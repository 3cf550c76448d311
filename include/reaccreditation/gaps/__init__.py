"""Gap analysis: how ready each element of the standard is for the assessment, and why not.

Plain functions over plain data (no Airflow, no database): ``analysis.analyse`` turns the organisation,
the evidence register, the submissions and past outcomes into a ``model.Snapshot``. ``store`` keeps
snapshots in the project database, ``gaps_json`` and ``gap_register`` write the files, and
``pipeline`` is what the gap_analysis DAG calls. (Nothing is re-exported here: importing one module
of the package never imports the others.)
"""
