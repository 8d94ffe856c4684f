-- A binary-mode CloudEvent: post.lua's 100-byte JSON body, with the four required
-- attributes as ce- headers and datacontenttype as Content-Type.
wrk.method = "POST"
wrk.body = '{"id":1,"name":"motif-bench","payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["ce-specversion"] = "1.0"
wrk.headers["ce-id"] = "bench-0001"
wrk.headers["ce-source"] = "/motif/bench"
wrk.headers["ce-type"] = "dev.motif.bench.echo"
