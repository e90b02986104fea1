"""The risk context's domain: the attribute vocabulary and signals (``signals``), rules in CEL
(``rules``), velocity buckets (``velocity``), customers and their history (``customers``), the
screening's result (``screening``), what a valid list change is (``lists``), and the backtest
with its labelled histories (``backtest``, ``history_gen``).

No AWS, environment or clock reads here (rules and histories may be read from files the caller
names: ``rules.load_ruleset``, ``backtest.read_history``).
"""
