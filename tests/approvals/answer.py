"""The in-process HITL answerer for ``dag.test()`` runs (devtools.local_answer); see its docstring."""

from devtools.local_answer import Answer, Answerer, answering

__all__ = ["Answer", "Answerer", "answering"]
