"""Reports and analyses over result files and the published GENEB leaderboard."""
