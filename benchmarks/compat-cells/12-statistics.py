import statistics as st

latencies = [12.5, 15.0, 11.2, 30.1, 14.8, 13.3, 12.9]
print(round(st.mean(latencies), 3), st.median(latencies))
print(round(st.stdev(latencies), 3), [round(q, 2) for q in st.quantiles(latencies, n=4)])
print(st.mode([1, 2, 2, 3]), round(st.pvariance([1, 2, 3, 4]), 4))
