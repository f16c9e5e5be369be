// go-cp-peer: the go-control-plane peer of cmesh's xDS benchmark (bench/run_xds_bench).
//
// It serves one JSON snapshot, as `cmeshctl compile -o json` prints it
// ({"listeners":[...],"routes":[...],"clusters":[...],"endpoints":[...]}), over ADS (state of the
// world) with go-control-plane's SnapshotCache in ADS mode, and reloads it when the file is
// rewritten. The file is watched with inotify on its directory (IN_CLOSE_WRITE / IN_MOVED_TO):
// the reload starts as soon as the writer closes the file, with no debounce, so the peer is told
// of a change the same way cmesh-pilot is (a file rewrite) and pays no polling latency.
//
// Choices that make it a strong peer, as a careful go-control-plane user would write it:
//   - every node maps to one NodeHash key, so all N streams share one snapshot (the benchmark's
//     nodes all get identical output);
//   - versions are per type (a hash of that type's JSON), so a route change re-sends RDS only,
//     instead of all four types as a single snapshot version would;
//   - the gRPC server allows a large number of concurrent streams and 64 MiB messages, like
//     cmesh-pilot.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	// The typed_config payloads cmesh's compiler emits: protojson resolves "@type" through the
	// global registry, so each must be linked in.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/http_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/original_dst/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/priority/previous_priorities/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// sharedKey maps every node to one snapshot: the benchmark's nodes all get identical output.
type sharedKey struct{}

func (sharedKey) ID(*corev3.Node) string { return "shared" }

type compiled struct {
	Listeners []json.RawMessage `json:"listeners"`
	Routes    []json.RawMessage `json:"routes"`
	Clusters  []json.RawMessage `json:"clusters"`
	Endpoints []json.RawMessage `json:"endpoints"`
}

// decode turns each JSON element into a fresh message from newMsg; the version is a digest of
// the type's JSON (cmeshctl's output is deterministic, so equal content gives equal versions).
func decode(items []json.RawMessage, newMsg func() proto.Message) ([]types.Resource, string, error) {
	out := make([]types.Resource, 0, len(items))
	h := sha256.New()
	for i, raw := range items {
		msg := newMsg()
		if err := protojson.Unmarshal(raw, msg); err != nil {
			return nil, "", fmt.Errorf("element %d: %w", i, err)
		}
		out = append(out, msg)
		h.Write(raw)
		h.Write([]byte{0})
	}
	return out, hex.EncodeToString(h.Sum(nil))[:16], nil
}

func loadSnapshot(path string) (*cachev3.Snapshot, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var c compiled
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	snap := &cachev3.Snapshot{}
	var versions []string
	for _, t := range []struct {
		name   string
		typ    resourcev3.Type
		items  []json.RawMessage
		newMsg func() proto.Message
	}{
		{"clusters", resourcev3.ClusterType, c.Clusters, func() proto.Message { return &clusterv3.Cluster{} }},
		{"endpoints", resourcev3.EndpointType, c.Endpoints, func() proto.Message { return &endpointv3.ClusterLoadAssignment{} }},
		{"listeners", resourcev3.ListenerType, c.Listeners, func() proto.Message { return &listenerv3.Listener{} }},
		{"routes", resourcev3.RouteType, c.Routes, func() proto.Message { return &routev3.RouteConfiguration{} }},
	} {
		resources, version, err := decode(t.items, t.newMsg)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %s %w", path, t.name, err)
		}
		snap.Resources[cachev3.GetResponseType(t.typ)] = cachev3.NewResources(version, resources)
		versions = append(versions, fmt.Sprintf("%s=%s(%d)", t.name, version, len(resources)))
	}
	if err := snap.Consistent(); err != nil {
		return nil, "", fmt.Errorf("%s: inconsistent snapshot: %w", path, err)
	}
	return snap, strings.Join(versions, " "), nil
}

// watchFile calls reload whenever a writer closes `path` or renames a file onto it.
func watchFile(path string, reload func()) error {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return err
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO); err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 64*1024)
		for {
			n, err := unix.Read(fd, buf)
			if err != nil {
				if err == unix.EINTR {
					continue
				}
				fmt.Fprintf(os.Stderr, "inotify read: %v\n", err)
				return
			}
			hit := false
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				if strings.TrimRight(string(nameBytes), "\x00") == base {
					hit = true
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
			if hit {
				reload()
			}
		}
	}()
	return nil
}

func main() {
	snapshotPath := flag.String("snapshot", "", "JSON of `cmeshctl compile -o json` (watched)")
	address := flag.String("listen-address", "127.0.0.1", "address to listen on")
	port := flag.Int("xds-port", 0, "ADS port (0 picks a free one)")
	flag.Parse()
	if *snapshotPath == "" {
		fmt.Fprintln(os.Stderr, "usage: go-cp-peer --snapshot FILE [--listen-address ADDR] [--xds-port N]")
		os.Exit(2)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	cache := cachev3.NewSnapshotCache(true, sharedKey{}, nil)
	load := func() {
		start := time.Now()
		snap, versions, err := loadSnapshot(*snapshotPath)
		if err != nil {
			fmt.Fprintf(os.Stderr, "reload failed, keeping the previous snapshot: %v\n", err)
			return
		}
		decoded := time.Now()
		// SetSnapshot answers every open watch before it returns, so its time is the push itself.
		if err := cache.SetSnapshot(ctx, "shared", snap); err != nil {
			fmt.Fprintf(os.Stderr, "SetSnapshot: %v\n", err)
			return
		}
		fmt.Printf("snapshot decoded in %d ms, SetSnapshot took %d ms: %s\n", decoded.Sub(start).Milliseconds(),
			time.Since(decoded).Milliseconds(), versions)
	}
	load()
	if err := watchFile(*snapshotPath, load); err != nil {
		fmt.Fprintf(os.Stderr, "watch %s: %v\n", *snapshotPath, err)
		os.Exit(1)
	}

	grpcServer := grpc.NewServer(
		grpc.MaxConcurrentStreams(1_000_000),
		grpc.MaxRecvMsgSize(64<<20),
		grpc.MaxSendMsgSize(64<<20),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(grpcServer, serverv3.NewServer(ctx, cache, serverv3.CallbackFuncs{}))
	lis, err := net.Listen("tcp", net.JoinHostPort(*address, fmt.Sprint(*port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "listen: %v\n", err)
		os.Exit(1)
	}
	// The same log line as cmesh-pilot's, so the runner waits for both the same way.
	fmt.Printf("xds listening on %s\n", lis.Addr().String())

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		grpcServer.Stop()
	}()
	if err := grpcServer.Serve(lis); err != nil {
		fmt.Fprintf(os.Stderr, "serve: %v\n", err)
		os.Exit(1)
	}
}
