"""Data Docs that show what departments typed as text, never as markup.

Why this exists: GX 1.x builds Data Docs with Jinja templates named ``*.j2``, and its environment
autoescapes only ``.html``/``.xml`` names, so nothing in a template is escaped. GX escapes the
parameters of its string templates (the prescriptive text), but the "Unexpected Value" table cells
are the failing values themselves, emitted raw: an evidence type ``<img src=x onerror=...>`` ran in
the quality team's browser. GX treats plain strings in its rendered content as trusted HTML (its own
links and icons), so escaping there would break the page; the values are escaped instead, on a copy
of each validation result, before GX's own renderer sees them.

``great_expectations.yml`` names :class:`EscapingValidationResultsPageRenderer` as the renderer of the
site's validations section. This module is loaded by GX (which is already imported), never by a DAG.
"""

from __future__ import annotations

import copy
import html
from typing import Any

from great_expectations.render.renderer.page_renderer import ValidationResultsPageRenderer

# The parts of an expectation's result that carry the data's own values.
VALUE_KEYS = (
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "partial_unexpected_index_list",
    "unexpected_list",
    "unexpected_index_list",
    "observed_value",
    "details",
)


def escaped(value: Any) -> Any:
    """``value`` with every string in it (keys too) HTML-escaped; numbers, dates and None unchanged."""
    if isinstance(value, str):
        return html.escape(value, quote=True)
    if isinstance(value, dict):
        return {escaped(k): escaped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(escaped(v) for v in value)
    return value


class EscapingValidationResultsPageRenderer(ValidationResultsPageRenderer):
    """GX's validation page, rendered from a copy whose data values are escaped."""

    def render(self, validation_results: Any, suite_parameters: Any = None) -> Any:
        safe = copy.deepcopy(validation_results)
        for result in safe.results:
            if result.result:
                for key in VALUE_KEYS:
                    if key in result.result:
                        result.result[key] = escaped(result.result[key])
        return super().render(safe, suite_parameters)
