"""Evidence intake: returned workbooks checked, read, validated, registered and answered.

The order is the point: :mod:`.safety` looks at the raw bytes and the zip package *before* any
spreadsheet parser touches them (python-calamine aborts the process on a huge declared sheet, openpyxl
reads Strict OOXML as "no sheets"), :mod:`.reading` turns a safe file into rows keyed by the shared
layout, :mod:`.gx_validation` (Great Expectations) and :mod:`.rules` (what GX cannot say) produce
row-level issues, :mod:`.annotate` writes them back as cell comments, :mod:`.store` records the
outcome with provenance, :mod:`.replies` builds the emails and :mod:`.pipeline` ties one inbox sweep
together so that one bad file never stops the others.
"""
