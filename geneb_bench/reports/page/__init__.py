"""report.html: the views it shows (views), what it inlines (assets, report.css, report.js)."""
