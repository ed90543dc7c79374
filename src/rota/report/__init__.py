"""What rota shows and tells outside itself: the HTML report, the Prometheus metrics file and the notifications."""
