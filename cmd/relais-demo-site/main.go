package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// demoSecret is the secret `relais serve --demo` registers for demo-site.
// A real site reads its secret from its own secret store, never from a
// command line.
const demoSecret = "demo-secret-for-local-trials-only"

// config is the site's settings, from flags.
type config struct {
	Issuer        string // Relais's issuer URL
	Listen        string
	ClientID      string
	ClientSecret  string
	RedirectURL   string // the registered redirect URI
	PostLogoutURL string // the registered post_logout_redirect_uri
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "relais-demo-site:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	site := newSite(cfg, log)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "relais-demo-site: --listen %s: %v\n", cfg.Listen, err)
		return 1
	}
	srv := &http.Server{Handler: site, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	home, _ := url.Parse(cfg.RedirectURL)
	fmt.Fprintf(stdout, "Caisse de démonstration: open %s://%s/ (signs in with Relais at %s as %s)\n",
		home.Scheme, home.Host, cfg.Issuer, cfg.ClientID)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "relais-demo-site:", err)
		return 1
	}
	return 0
}

// parseFlags reads and checks the settings; each default fits
// `relais serve --demo` on this machine.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("relais-demo-site", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.Issuer, "issuer", "http://localhost:8080", "Relais's issuer URL (its discovery is at ISSUER/.well-known/openid-configuration)")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8081", "address to listen on")
	fs.StringVar(&c.ClientID, "client-id", "demo-site", "client_id registered at Relais")
	secret := os.Getenv("DEMO_SITE_CLIENT_SECRET")
	if secret == "" {
		secret = demoSecret
	}
	fs.StringVar(&c.ClientSecret, "client-secret", secret, "client secret (default: $DEMO_SITE_CLIENT_SECRET, else the demo's)")
	fs.StringVar(&c.RedirectURL, "redirect-url", "http://localhost:8081/callback", "redirect URI registered at Relais; the site's public address is its origin")
	fs.StringVar(&c.PostLogoutURL, "post-logout-redirect-url", "", "post_logout_redirect_uri registered at Relais (default: the origin of --redirect-url, with /)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	for name, v := range map[string]string{"--issuer": c.Issuer, "--redirect-url": c.RedirectURL} {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("%s %q must be an http or https URL", name, v)
		}
	}
	if c.PostLogoutURL == "" {
		u, _ := url.Parse(c.RedirectURL)
		c.PostLogoutURL = u.Scheme + "://" + u.Host + "/"
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return c, errors.New("--client-id and --client-secret must not be empty")
	}
	return c, nil
}
