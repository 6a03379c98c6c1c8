"""Renderables built from results: rich tables (report), heatmaps, matplotlib figures
(plot, the plot extra). Views never train."""
