# Drives one libtorrent session for bt's interoperability tests.
#
# Run as: /usr/bin/python3 -u lt_driver.py SETTINGS_JSON
# It prints {"ready": ..., "port": N} once the session listens, then reads one
# JSON request per line on stdin ({"id": N, "method": "...", "args": {...}})
# and answers each with {"id": N, "result": ...} or {"id": N, "error": "..."}.
# Alerts are streamed as {"alert": {...}} lines as they arrive.
#
# Mode "create": /usr/bin/python3 lt_driver.py --create ARGS_JSON prints one
# JSON object with the torrent (base64) and its v1 info hash, then exits.
import base64
import json
import os
import sys
import threading
import time
import traceback

import libtorrent as lt

out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj)
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def v1_hex(h):
    try:
        return str(h.info_hashes().v1)
    except Exception:
        return str(h.info_hash())


def create(args):
    path = os.path.abspath(args["path"])
    fs = lt.file_storage()
    lt.add_files(fs, path)
    flags = 0
    if args.get("v1_only"):
        flags |= lt.create_torrent.v1_only
    ct = lt.create_torrent(fs, args.get("piece_size", 0), flags=flags)
    for tier, url in enumerate(args.get("trackers") or []):
        ct.add_tracker(url, tier)
    for url in args.get("web_seeds") or []:
        ct.add_url_seed(url)
    if args.get("private"):
        ct.set_priv(True)
    lt.set_piece_hashes(ct, os.path.dirname(path))
    data = lt.bencode(ct.generate())
    ti = lt.torrent_info(data)
    try:
        ih = str(ti.info_hashes().v1)
    except Exception:
        ih = str(ti.info_hash())
    return {"torrent": base64.b64encode(data).decode(), "info_hash": ih}


class Driver:
    def __init__(self, settings):
        base = {
            "listen_interfaces": "127.0.0.1:0",
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "dht_bootstrap_nodes": "",
            "allow_multiple_connections_per_ip": True,
            "alert_mask": lt.alert_category.error
            | lt.alert_category.status
            | lt.alert_category.peer
            | lt.alert_category.storage,
        }
        base.update(settings)
        self.ses = lt.session(base)
        self.handles = {}
        self.done = False

    def alerts_loop(self):
        # Poll rather than block in wait_for_alert: the binding turns the
        # alert pointer wait_for_alert returns into a Python object while
        # libtorrent's network thread may be posting (and moving) alerts,
        # which crashed the interpreter now and then. Alerts returned by
        # pop_alerts stay valid until the next pop_alerts, which only this
        # thread calls.
        while not self.done:
            time.sleep(0.02)
            for a in self.ses.pop_alerts():
                rec = {"type": type(a).__name__, "message": a.message()}
                h = getattr(a, "handle", None)
                if h is not None:
                    try:
                        if h.is_valid():
                            rec["info_hash"] = v1_hex(h)
                    except Exception:
                        pass
                for attr in ("ip", "endpoint"):
                    ep = getattr(a, attr, None)
                    if isinstance(ep, tuple) and len(ep) == 2:
                        rec["peer"] = "%s:%d" % ep
                        break
                for attr in ("piece_index", "error"):
                    v = getattr(a, attr, None)
                    if v is not None:
                        rec[attr] = v if isinstance(v, int) else str(getattr(v, "message", lambda: v)())
                emit({"alert": rec})

    def handle(self, ih):
        h = self.handles.get(ih)
        if h is None:
            raise KeyError("no torrent " + ih)
        return h

    def m_add_torrent(self, a):
        if a.get("magnet"):
            atp = lt.parse_magnet_uri(a["magnet"])
        else:
            atp = lt.add_torrent_params()
            atp.ti = lt.torrent_info(a["torrent_file"])
        atp.save_path = a.get("save_path", ".")
        atp.flags &= ~(lt.torrent_flags.paused | lt.torrent_flags.auto_managed)
        if a.get("seed_mode"):
            atp.flags |= lt.torrent_flags.seed_mode
        if a.get("upload_limit"):
            atp.upload_limit = a["upload_limit"]
        if a.get("download_limit"):
            atp.download_limit = a["download_limit"]
        h = self.ses.add_torrent(atp)
        ih = v1_hex(h)
        self.handles[ih] = h
        return {"info_hash": ih}

    def m_connect_peer(self, a):
        self.handle(a["info_hash"]).connect_peer((a["ip"], a["port"]))
        return {}

    def m_status(self, a):
        s = self.handle(a["info_hash"]).status()
        return {
            "progress": s.progress,
            "state": str(s.state),
            "is_seeding": s.is_seeding,
            "is_finished": s.is_finished,
            "has_metadata": s.has_metadata,
            "num_peers": s.num_peers,
            "num_seeds": s.num_seeds,
            "total_payload_download": s.total_payload_download,
            "total_payload_upload": s.total_payload_upload,
            "total_done": s.total_done,
            "total_wanted": s.total_wanted,
            "download_rate": s.download_payload_rate,
            "upload_rate": s.upload_payload_rate,
            "error": str(s.errc.message()) if s.errc.value() else "",
        }

    def m_peers(self, a):
        res = []
        for p in self.handle(a["info_hash"]).get_peer_info():
            res.append({
                "ip": p.ip[0], "port": p.ip[1],
                "client": p.client.decode("utf-8", "replace") if isinstance(p.client, bytes) else p.client,
                "progress": p.progress, "flags": p.flags, "source": p.source,
                "down_speed": p.down_speed, "up_speed": p.up_speed,
                "total_download": p.total_download, "total_upload": p.total_upload,
            })
        return res

    def m_torrent_file(self, a):
        h = self.handle(a["info_hash"])
        ti = h.torrent_file()
        if ti is None:
            return {"metadata": ""}
        data = lt.bencode(lt.create_torrent(ti).generate())
        return {"metadata": base64.b64encode(ti.metadata()).decode(),
                "torrent": base64.b64encode(data).decode()}

    def m_add_dht_node(self, a):
        self.ses.add_dht_node((a["ip"], a["port"]))
        return {}

    def m_exec(self, a):
        scope = {"ses": self.ses, "handles": self.handles, "lt": lt, "args": a.get("args", {}), "result": None}
        exec(a["code"], scope)
        return scope["result"]

    def serve(self):
        threading.Thread(target=self.alerts_loop, daemon=True).start()
        emit({"ready": True, "port": self.ses.listen_port()})
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            req = json.loads(line)
            try:
                fn = getattr(self, "m_" + req["method"])
                emit({"id": req["id"], "result": fn(req.get("args") or {})})
            except Exception as e:
                emit({"id": req["id"], "error": "%s: %s" % (type(e).__name__, e),
                      "trace": traceback.format_exc()})
        self.done = True


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--create":
        emit(create(json.loads(sys.argv[2])))
        return
    settings = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    Driver(settings).serve()


if __name__ == "__main__":
    main()
