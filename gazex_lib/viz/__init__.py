"""Figures: functions that return matplotlib or plotly figures, never plt.show()."""
