"""The assessor's evidence portfolio: per criterion and element, the claims and the documents or links behind them."""
