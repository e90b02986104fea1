"""What reconciliation does, over its ports: the daily run (``daily``), the bank intake
(``bank_intake``) and which tenants and days a run covers (``schedule``)."""
