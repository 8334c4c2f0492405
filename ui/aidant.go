package ui

import "github.com/gorilla/mux"

func (s *Server) mountAidant(pages *mux.Router) {}
