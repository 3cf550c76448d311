"""The spreadsheets we write: the evidence workbook's layout and safe openpyxl helpers."""
