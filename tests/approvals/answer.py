"""The in-process HITL answerer for ``dag.test()`` runs (reaccreditation.local_answer); see its docstring."""

from reaccreditation.local_answer import Answer, Answerer, answering

__all__ = ["Answer", "Answerer", "answering"]
