-- Filtered lists read the newest matching requests first: these indexes
-- give them in id order, so a page reads about as many rows as it shows.
CREATE INDEX requests_status_category_idx ON requests (status, category, id DESC);
CREATE INDEX requests_agency_status_idx ON requests (agency_id, status, id DESC);
