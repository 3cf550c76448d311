"""The link check: is each https link an evidence row names working, broken, or not ours to check?"""
