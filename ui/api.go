package ui

import "github.com/gorilla/mux"

func (s *Server) mountAPI(pages *mux.Router) {}
