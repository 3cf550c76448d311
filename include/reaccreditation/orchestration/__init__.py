"""The one seam to Airflow: the only package in ``reaccreditation`` that imports ``airflow``."""
