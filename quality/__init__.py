"""Quality: validity checks, fraud and duplicate signals, scoring and the conversion model.

Pure functions over plain data (`LeadFacts`, `NicheRules`); database look-ups arrive as
callables (`Lookups`). Never imports flask or anything of ours above it.
"""

from quality.assess import QualityReport, assess
from quality.facts import FieldSpec, LeadFacts, Lookups, NicheRules
from quality.findings import Finding, Severity

__all__ = [
    "FieldSpec",
    "Finding",
    "LeadFacts",
    "Lookups",
    "NicheRules",
    "QualityReport",
    "Severity",
    "assess",
]
