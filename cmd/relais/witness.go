package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/sqlite"
)

// witnessStore is a store that keeps checkpoint notes and a witness's
// state (both stores do).
type witnessStore interface {
	store
	journal.NoteStore
	journal.WitnessStore
}

var (
	_ witnessStore = (*sqlite.Store)(nil)
	_ witnessStore = (*postgres.Store)(nil)
)

func asWitnessStore(st store) (witnessStore, error) {
	ws, ok := st.(witnessStore)
	if !ok {
		return nil, errors.New("this store keeps no checkpoint notes")
	}
	return ws, nil
}

// journalOrigin is the checkpoint origin of a deployment: its issuer
// without scheme, then /journal (tlog-checkpoint: a schema-less URL).
func journalOrigin(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return "", settingErr("--issuer %q (RELAIS_ISSUER) is not a URL; write for example --issuer https://relais.example.fr.", issuer)
	}
	origin := u.Host + strings.TrimSuffix(u.Path, "/") + "/journal"
	if strings.ContainsAny(origin, " +") {
		return "", settingErr("--issuer %q (RELAIS_ISSUER) gives a journal origin with a space or a plus sign; choose an issuer without.", issuer)
	}
	return origin, nil
}

// bindWitnessFlags adds relais serve's witness settings.
func bindWitnessFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringArrayVar(&c.JournalWitnesses, "journal-witness", nil,
		`a witness that cosigns the journal's checkpoints: "URL VKEY" (its address and the key relais journal witness prints); repeat for each`)
}

// parseWitnesses reads --journal-witness values.
func parseWitnesses(values []string) ([]journal.Cosigner, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	out := make([]journal.Cosigner, 0, len(values))
	for _, v := range values {
		raw, vkey, ok := strings.Cut(strings.TrimSpace(v), " ")
		u, err := url.Parse(raw)
		if !ok || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, settingErr("--journal-witness %q (RELAIS_JOURNAL_WITNESS) must be \"URL VKEY\", for example \"https://witness.example/ witness.example/relais+1a2b3c4d+BASE64\".", v)
		}
		key, err := journal.ParseNoteKey(strings.TrimSpace(vkey))
		if err != nil || key.Type != journal.SigCosignature {
			return nil, settingErr("--journal-witness %q (RELAIS_JOURNAL_WITNESS): %q is not a witness's key; copy the one relais journal witness prints.", v, vkey)
		}
		out = append(out, &httpCosigner{url: strings.TrimSuffix(raw, "/") + "/add-checkpoint", key: key, client: client})
	}
	return out, nil
}

// httpCosigner asks a witness over HTTP (c2sp.org/tlog-witness,
// add-checkpoint).
type httpCosigner struct {
	url    string
	key    journal.NoteVerifier
	client *http.Client
}

func (h *httpCosigner) Key() journal.NoteVerifier { return h.key }

// maxWitnessAnswer bounds what is read of a witness's answer.
const maxWitnessAnswer = 64 << 10

func (h *httpCosigner) AddCheckpoint(ctx context.Context, req journal.AddCheckpoint) ([]journal.NoteSignature, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(req.Marshal()))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := h.client.Do(r)
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", h.key.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWitnessAnswer))
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", h.key.Name, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return journal.ParseSignatureLines(body)
	case resp.StatusCode == http.StatusConflict:
		// tlog-witness: the body is the witness's latest size (here its
		// number), in decimal.
		n, err := strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("witness %s answered 409 without its latest number", h.key.Name)
		}
		return nil, &journal.WitnessRefusal{Status: resp.StatusCode, Latest: n, Reason: "conflict"}
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		reason, _, _ := strings.Cut(string(body), "\n")
		if len(reason) > 200 {
			reason = reason[:200]
		}
		return nil, &journal.WitnessRefusal{Status: resp.StatusCode, Reason: reason}
	}
	return nil, fmt.Errorf("witness %s answered %d", h.key.Name, resp.StatusCode)
}

// witnessRound has the journal's checkpoints cosigned; a witness that is
// down or refuses is logged and asked again at the next round, and never
// stops the journal.
func witnessRound(ctx context.Context, st witnessStore, signer journal.NoteSigner, origin string, ws []journal.Cosigner, log *slog.Logger) {
	out, err := journal.Witness(ctx, st, signer, origin, ws)
	var f *journal.Failure
	switch {
	case errors.As(err, &f):
		log.ErrorContext(ctx, "journal tampering found: checkpoint notes do not match", "checkpoint", f.Checkpoint, "kind", string(f.Kind))
		return
	case err != nil:
		log.ErrorContext(ctx, "journal witnessing failed", "err", err)
		return
	}
	for _, o := range out {
		var ref *journal.WitnessRefusal
		switch {
		case errors.As(o.Err, &ref):
			log.ErrorContext(ctx, "a witness refused to cosign the journal's checkpoint", "witness", o.Witness, "status", ref.Status,
				"witness_latest", ref.Latest, "reason", ref.Reason)
		case o.Err != nil:
			log.WarnContext(ctx, "a witness could not be reached; asked again at the next round", "witness", o.Witness, "err", o.Err)
		default:
			log.InfoContext(ctx, "journal checkpoint cosigned", "witness", o.Witness, "checkpoint", o.Number)
		}
	}
}

// journalWitnessing is what the journal's background work needs to have
// checkpoints cosigned.
type journalWitnessing struct {
	store     witnessStore
	signer    journal.NoteSigner
	origin    string
	witnesses []journal.Cosigner
}

func newJournalWitnessing(c *Config, st store, keys *keyring.JournalKeys) (*journalWitnessing, error) {
	if len(c.JournalWitnesses) == 0 {
		return nil, nil
	}
	ws, err := parseWitnesses(c.JournalWitnesses)
	if err != nil {
		return nil, err
	}
	origin, err := journalOrigin(c.Issuer)
	if err != nil {
		return nil, err
	}
	wst, err := asWitnessStore(st)
	if err != nil {
		return nil, err
	}
	return &journalWitnessing{store: wst, signer: keys.NoteSigner(origin), origin: origin, witnesses: ws}, nil
}

func (w *journalWitnessing) round(ctx context.Context, log *slog.Logger) {
	if w != nil {
		witnessRound(ctx, w.store, w.signer, w.origin, w.witnesses, log)
	}
}

// witnessFlags are relais journal verify's witness settings.
type witnessFlags struct {
	keys      []string
	required  int
	maxBehind int64
}

func (w *witnessFlags) bind(fs *pflag.FlagSet) {
	fs.StringArrayVar(&w.keys, "witness", nil, "a witness's key (vkey) whose cosignatures count; repeat for each")
	fs.IntVar(&w.required, "witnesses-required", 0, "how many of the --witness keys must have cosigned the checkpoint relied on (default 1 with --witness)")
	fs.Int64Var(&w.maxBehind, "max-unwitnessed", 0, "how many of the newest checkpoints may lack the cosignatures (default 0: the newest must be cosigned; a store alone cannot show that a deleted checkpoint was cosigned)")
}

// parse returns the witness keys and k, or none when no witness is named.
func (w *witnessFlags) parse() ([]journal.NoteVerifier, int, error) {
	if len(w.keys) == 0 {
		if w.required != 0 {
			return nil, 0, settingErr("--witnesses-required needs the witnesses' keys: add --witness VKEY for each.")
		}
		return nil, 0, nil
	}
	if w.maxBehind < 0 {
		return nil, 0, settingErr("--max-unwitnessed must be 0 or more.")
	}
	keys := make([]journal.NoteVerifier, 0, len(w.keys))
	for _, s := range w.keys {
		k, err := journal.ParseNoteKey(s)
		if err != nil || k.Type != journal.SigCosignature {
			return nil, 0, settingErr("--witness %q is not a witness's key; copy the one relais journal witness prints.", s)
		}
		for _, seen := range keys {
			if seen.String() == k.String() {
				// k of n counts witnesses, not lines.
				return nil, 0, settingErr("--witness %q is named twice; name each witness once.", s)
			}
		}
		keys = append(keys, k)
	}
	k := w.required
	if k == 0 {
		k = 1
	}
	if k < 1 || k > len(keys) {
		return nil, 0, settingErr("--witnesses-required %d must be from 1 to the number of --witness keys (%d).", w.required, len(keys))
	}
	return keys, k, nil
}

// verifyWitnessedStore checks, after the journal verified, that k of the
// witnesses cosigned a checkpoint, and says which and how many came after.
func verifyWitnessedStore(ctx context.Context, stdout io.Writer, st store, keys []journal.NoteVerifier, k int, maxBehind int64) error {
	if len(keys) == 0 {
		return nil
	}
	wst, err := asWitnessStore(st)
	if err != nil {
		return err
	}
	rep, err := journal.VerifyWitnessed(ctx, wst, keys, k)
	if err != nil {
		return err
	}
	if f := rep.Behind(maxBehind); f != nil {
		return verifyFailed(f)
	}
	fmt.Fprintf(stdout, "checkpoint %d is cosigned by %d of the %d witnesses named (%d required); %d checkpoints after it are not yet cosigned\n",
		rep.Checkpoint, len(rep.Cosigners), len(keys), k, rep.NotWitnessed)
	return nil
}

// verifyWitnessedExport is the same for an export's checkpoint; it
// returns the line to print once the rest verified.
func verifyWitnessedExport(file string, x journal.Export, keys []journal.NoteVerifier, k int) (string, error) {
	if len(keys) == 0 {
		return "", nil
	}
	who, f := journal.VerifyExportWitnessed(x, keys, k)
	if f != nil {
		return "", fmt.Errorf("%s is rejected: %s", file, f)
	}
	return fmt.Sprintf("its checkpoint is cosigned by %d of the %d witnesses named (%d required)\n", len(who), len(keys), k), nil
}

// newJournalVKey is relais journal vkey: the journal keys as a witness
// is told to trust them.
func newJournalVKey(stdout io.Writer, getenv func(string) string, open openFunc) *cobra.Command {
	var issuer, secret string
	cmd := &cobra.Command{
		Use:   "vkey",
		Short: "Print the journal keys' verifier keys (vkeys), which a witness of this deployment trusts (relais journal witness --log-key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			origin, err := journalOrigin(issuer)
			if err != nil {
				return err
			}
			// Only the trusted journal keys: a witness told to trust a
			// key added to the database would cosign what it signs.
			return withJournalKeys(cmd, open, secret, getenv, func(_ store, jk *keyring.JournalKeys) error {
				keys, err := jk.NoteKeys(cmd.Context(), origin)
				if err != nil {
					return err
				}
				if len(keys) == 0 {
					return errors.New("there is no journal key yet: relais serve or relais journal checkpoint creates it")
				}
				for _, k := range keys {
					fmt.Fprintln(stdout, k)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&issuer, "issuer", "http://localhost:8080", "the issuer of relais serve (its journal's origin is the issuer's host and path, then /journal)")
	cmd.Flags().StringVar(&secret, "secret-key", "", "base64 of the deployment's 32-byte secret key, which tells its journal keys from rows added to the database (prefer RELAIS_SECRET_KEY)")
	return cmd
}

// newJournalWitness is relais journal witness: a witness of other
// deployments' journals, over HTTP.
func newJournalWitness(stdout io.Writer, getenv func(string) string, open openFunc) *cobra.Command {
	var addr, name, keyFile string
	var logKeys []string
	cmd := &cobra.Command{
		Use:   "witness",
		Short: "Cosign another Relais deployment's journal checkpoints, refusing any second history (C2SP tlog-witness)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), getenv); err != nil {
				return err
			}
			if name == "" {
				return settingErr("--name is required: the witness's name, for example witness.example.fr/relais.")
			}
			if len(logKeys) == 0 {
				return settingErr("--log-key is required: the vkey that relais journal vkey prints on the deployment to witness.")
			}
			var logs []journal.NoteVerifier
			for _, s := range logKeys {
				k, err := journal.ParseNoteKey(s)
				if err != nil || k.Type != journal.SigECDSA {
					return settingErr("--log-key %q is not a journal key; copy what relais journal vkey prints.", s)
				}
				logs = append(logs, k)
			}
			key, created, err := witnessKey(keyFile)
			if err != nil {
				return err
			}
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			wst, err := asWitnessStore(st)
			if err != nil {
				return err
			}
			w, err := journal.NewWitnessing(name, key, logs, wst, time.Now)
			if err != nil {
				return settingErr("--name %q cannot name a key: no spaces or plus signs.", name)
			}
			ln, err := listen(addr)
			if err != nil {
				return err
			}
			defer ln.Close()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			if created {
				fmt.Fprintf(stdout, "Created the witness key in %s (mode 0600): keep it; a new key is a new witness.\n", keyFile)
			}
			fmt.Fprintf(stdout, "witness key: %s\n", w.Key())
			fmt.Fprintf(stdout, "Relais witness is running on http://%s/ for %d journal keys. Stop with Ctrl+C.\n", ln.Addr(), len(logs))
			mux := http.NewServeMux()
			mux.Handle("POST /add-checkpoint", witnessHandler(w, log))
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			select {
			case err := <-served:
				return fmt.Errorf("witness: %w", err)
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&addr, "listen", "127.0.0.1:8090", "address the witness listens on")
	flags.StringVar(&name, "name", "", "the witness's name, a schema-less URL (witness.example.fr/relais): its key name in cosignatures")
	flags.StringVar(&keyFile, "key", "witness.key", "file of the witness's Ed25519 key, created (mode 0600) if missing")
	flags.StringArrayVar(&logKeys, "log-key", nil, "a journal key to trust, as relais journal vkey prints it (its name is the journal's origin); repeat for each")
	return cmd
}

// witnessKey reads the witness's key from file, or creates it there
// (0600, never overwritten).
func witnessKey(file string) (ed25519.PrivateKey, bool, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		_, _ = rand.Read(seed) // crypto/rand.Read never fails (Go 1.24+).
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, settingErr("--key %s cannot be created (%s); choose another file.", file, shortCause(err))
		}
		_, err = f.WriteString(base64.StdEncoding.EncodeToString(seed) + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, false, settingErr("--key %s cannot be written (%s); choose another file.", file, shortCause(err))
		}
		return ed25519.NewKeyFromSeed(seed), true, nil
	}
	if err != nil {
		return nil, false, settingErr("--key %s cannot be read (%s); check the path.", file, shortCause(err))
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, false, settingErr("--key %s is not a witness key (base64 of 32 bytes); give another file to create a new one.", file)
	}
	return ed25519.NewKeyFromSeed(seed), false, nil
}

// maxAddCheckpoint bounds a request: maxBetween notes of a few hundred
// bytes each, and the note.
const maxAddCheckpoint = 4 << 20

// witnessHandler answers add-checkpoint as c2sp.org/tlog-witness says:
// 200 with the cosignature lines; 409 with the witness's latest number
// (text/x.tlog.size); 400, 403, 404, 422 with a one-line reason.
func witnessHandler(w *journal.Witnessing, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxAddCheckpoint))
		if err != nil {
			http.Error(rw, "the request is too large or was cut", http.StatusBadRequest)
			return
		}
		req, err := journal.ParseAddCheckpoint(body)
		var sigs []journal.NoteSignature
		if err == nil {
			sigs, err = w.AddCheckpoint(r.Context(), req)
		}
		var ref *journal.WitnessRefusal
		switch {
		case err == nil:
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			for _, s := range sigs {
				io.WriteString(rw, s.Line())
			}
			return
		case errors.As(err, &ref) && ref.Status == journal.StatusConflict:
			log.WarnContext(r.Context(), "checkpoint refused", "status", ref.Status, "latest", ref.Latest, "reason", ref.Reason)
			rw.Header().Set("Content-Type", "text/x.tlog.size")
			rw.WriteHeader(http.StatusConflict)
			fmt.Fprintf(rw, "%d\n", ref.Latest)
		case errors.As(err, &ref):
			log.WarnContext(r.Context(), "checkpoint refused", "status", ref.Status, "reason", ref.Reason)
			http.Error(rw, ref.Reason, ref.Status)
		default:
			log.ErrorContext(r.Context(), "witness store failed", "err", err)
			http.Error(rw, "the witness cannot answer now; try again later", http.StatusServiceUnavailable)
		}
	})
}
