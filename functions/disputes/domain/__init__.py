"""The chargeback desk's rules: cases (``case``), evidence (``evidence``), representment
(``representment``), deadlines (``deadlines``) and the networks' ratios (``ratios``)."""
