"""The double-entry ledger and payment gateway (issue 4). Never imports flask."""
