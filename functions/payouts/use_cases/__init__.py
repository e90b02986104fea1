"""What the payouts context does: functions that receive their ports."""
