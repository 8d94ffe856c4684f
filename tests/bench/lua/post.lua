-- An HTTP echo request: a POST of exactly 100 bytes of JSON (as in
-- shared/research/peers-bench.md, so the figures are comparable).
wrk.method = "POST"
wrk.body = '{"id":1,"name":"motif-bench","payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
wrk.headers["Content-Type"] = "application/json"
