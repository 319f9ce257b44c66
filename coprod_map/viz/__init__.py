"""Figure builders: DataFrames and graphs in, plotly figures, HTML and plain-language text out."""
