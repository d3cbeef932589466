;; Stand-ins for the host imports while Wizer snapshots the guest. tic_init never calls
;; the host, so reaching either of these is a bug: trap.
(module
  (func (export "call") (param i32 i32) (result i32) unreachable)
  (func (export "reply") (param i32) unreachable))
