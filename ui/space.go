package ui

import "github.com/gorilla/mux"

func (s *Server) mountSpace(pages *mux.Router) {}
